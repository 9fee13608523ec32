from musclepose.cli import main

main()
