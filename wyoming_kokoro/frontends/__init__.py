"""The front ends: each knows its protocol and the synthesis service's small interface."""
