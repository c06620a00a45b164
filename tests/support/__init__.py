"""What the tests share: the reference samples, publishing helpers, databases built once
per test run, and the command line run in-process. No tests here."""
