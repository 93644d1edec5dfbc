from lakesmith.entry import main

main()
