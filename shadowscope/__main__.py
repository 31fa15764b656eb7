from shadowscope.cli import main

main()
