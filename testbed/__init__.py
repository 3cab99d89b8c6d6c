"""This test machine as the tests and the benchmarks use it (testbed.py); the shell scripts beside
it prepare the machine and run the suite."""
