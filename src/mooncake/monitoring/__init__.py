"""Alias of the original module layout."""
