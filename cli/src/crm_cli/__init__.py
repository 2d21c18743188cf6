"""The `crm` command-line tool."""
