"""Common package of the supermarket CRM services."""
