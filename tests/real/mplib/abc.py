from abc import ABC, abstractmethod
class Base(ABC):
    @abstractmethod
    def area(self):
        pass
class Sq(Base):
    def __init__(self, s):
        self.s = s
    def area(self):
        return self.s * self.s
print(Sq(3).area(), isinstance(Sq(1), ABC), Base().area())
import abc
print(sorted(k for k in dir(abc) if not k.startswith("__")))
