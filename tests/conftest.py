"""pytest set-up shared by every test directory: the harness library."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
