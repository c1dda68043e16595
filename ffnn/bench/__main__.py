"""``python -m ffnn.bench`` = ``ffnn bench``."""

from ffnn.bench import main

raise SystemExit(main())
