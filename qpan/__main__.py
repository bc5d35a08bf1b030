from qpan.cli import main

if __name__ == "__main__":  # not when a page worker (qpan/workers.py) imports it
    main()
