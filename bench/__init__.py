"""The benchmark against stock Rasa and the bounded load test (`make bench`, `make load-test`)."""
