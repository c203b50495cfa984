"""The Qt desktop window of bertdesk, built on the Qt-free `bertdesk.core`."""
