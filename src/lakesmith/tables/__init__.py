"""Delta tables: where pipeline tables live, their metadata through delta-rs, engine registration."""
