from lawful.cli.app import main

main()
