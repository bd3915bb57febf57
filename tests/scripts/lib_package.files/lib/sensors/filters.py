from . import units

def moving_average(values, n):
    return [sum(values[i:i + n]) / n for i in range(len(values) - n + 1)]
