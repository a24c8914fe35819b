"""ACME's hactl plugins: a fence device driving a power file, and an agent class running
ACME service scripts."""
