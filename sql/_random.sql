-- A random number per row ({{random}}), for a random order.
random()
