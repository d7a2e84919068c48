"""User uploads: the example app for handling user files (see models.py for the design)."""
