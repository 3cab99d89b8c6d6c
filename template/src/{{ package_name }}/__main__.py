"""`python -m {{ package_name }}`: print what this environment computes on."""

from . import describe_device

if __name__ == "__main__":
    print(describe_device())
