from lakesmith.cli import main

main()
