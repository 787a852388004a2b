-- A random number per row ({{random}}), for a random order: ClickHouse calls it rand().
rand()
