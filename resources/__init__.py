"""Icons, the .desktop template and sample texts; installed as the package `bertdesk.resources`."""
