"""Running Haven: the process table, the supervisor (`haven up`) and the deployment checks."""
