"""Landing folders of files read as streams (Auto Loader, `cloudFiles`, `read_files`)."""
