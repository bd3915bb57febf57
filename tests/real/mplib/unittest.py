import unittest


class TestArith(unittest.TestCase):
    def setUp(self):
        self.n = 6
        print(" setUp", end="")

    def tearDown(self):
        print(" tearDown", end="")

    def test_alpha_ops(self):
        self.assertEqual(self.n * 7, 42)
        self.assertNotEqual(self.n, 7)
        self.assertTrue(self.n)
        self.assertFalse(0)
        self.assertIn(3, [1, 2, 3])
        self.assertIs(None, None)
        self.assertIsNone(None)
        self.assertIsNotNone(self.n)
        self.assertIsInstance(self.n, int)
        self.assertAlmostEqual(0.1 + 0.2, 0.3)
        self.assertAlmostEqual(10, 12, delta=2)
        self.assertNotAlmostEqual(1.0, 1.1)
        self.assertLessEqual(1, 1)
        self.assertGreaterEqual(2, 1)

    def test_beta_raises(self):
        self.assertRaises(ZeroDivisionError, lambda: 1 // 0)
        with self.assertRaises(KeyError) as cm:
            {}["k"]
        print(" caught", type(cm.exception).__name__, end="")


class TestFlow(unittest.TestCase):
    @unittest.expectedFailure
    def test_delta_expected(self):
        self.assertEqual(1, 2)

    def test_epsilon_sub(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertLessEqual(i, 1)


    @unittest.skip("not on this board")
    def test_gamma_skipped(self):
        pass

class TestBroken(unittest.TestCase):
    def test_eta_error(self):
        raise OSError(5)


    def test_zeta_fail(self):
        self.assertEqual(1 + 1, 3)

suite = unittest.TestSuite("s")
suite.addTest(TestArith)
suite.addTest(TestFlow)
suite.addTest(TestBroken)
result = unittest.TextTestRunner().run(suite)
print(result)
print(result.wasSuccessful(), result.testsRun, result.failuresNum, result.errorsNum, result.skippedNum)
try:
    with unittest.TestCase().assertRaises(ValueError):
        pass
except AssertionError as e:
    print("AssertionError", e)
