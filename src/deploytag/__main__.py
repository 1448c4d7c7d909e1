from deploytag.cli.main import main

main()
