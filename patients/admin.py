# Patient files are clinical data: they are not edited in the admin.
