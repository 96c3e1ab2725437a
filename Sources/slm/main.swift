print("slm: under construction")
