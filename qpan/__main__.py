from qpan.cli import main

main()
