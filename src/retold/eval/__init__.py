"""Quality benchmarks behind `retold eval`: each reads data in the format of ../shared/data/NAME."""
