# The cffi extensions are the only thing pyproject.toml cannot declare.
from setuptools import setup

setup(cffi_modules=["native/build_ffi.py:ffibuilder", "native/build_ffi.py:factsbuilder"])
