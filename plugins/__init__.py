"""The plugins bundled with hactl. They are found through entry points, exactly as a
third-party distribution's plugins are; nothing in hactl.core imports this package."""
