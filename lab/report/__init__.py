"""The pieces of report.py: the steps it runs, the content it reads from their records, the document it writes."""
