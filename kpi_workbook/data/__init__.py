"""Data shipped with the package: the built-in sample roster. Imports nothing."""
