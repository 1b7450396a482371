from cooperative.cli import main

main()
