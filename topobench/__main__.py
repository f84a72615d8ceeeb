from topobench.cli import main

raise SystemExit(main())
