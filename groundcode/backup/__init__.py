"""The backup room: ``BackupService`` (whole-project backup and restore)."""
