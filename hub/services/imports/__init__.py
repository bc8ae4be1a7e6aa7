"""CSV imports: upload (stored at once), the run (parts of customers, chunks of lines), the stored file."""
