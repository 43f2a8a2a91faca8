print("vigil-sentinel: not yet")
