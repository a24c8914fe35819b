"""The `hactl` command line: one module per noun; commands parse and render, the work is
done by library functions elsewhere in hactl.core."""
