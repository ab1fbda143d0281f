"""`python3 -m hpc_bridge_lab`: a standalone jupyter_server with the lab app."""

from hpc_bridge_lab import main

main()
