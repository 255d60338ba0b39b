"""`python rank_output.py FOLDER SCRIPT ARGS...`: runs SCRIPT as __main__, as one MPI rank whose
stdout goes to FOLDER/rank-<rank>.out instead of mpirun's shared stream.

mpirun forwards each rank's writes as they come, and an unbuffered print() is several writes
(each argument, the separator, the newline), so two ranks printing at once can cut each other's
lines apart ("Test accuracy:Test accuracy: 0.81 0.81"). The launcher reads the files back in
rank order, so a test sees every rank's lines whole.
"""

import os
import runpy
import sys

RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK")  # Open MPI, PMIx, MPICH

rank = next((os.environ[name] for name in RANK_VARIABLES if name in os.environ), None)
if rank is None:
    sys.exit(f"rank_output.py runs under mpirun: none of {', '.join(RANK_VARIABLES)} is set")
folder, script = sys.argv[1], sys.argv[2]
out = open(os.path.join(folder, f"rank-{int(rank)}.out"), "w")
os.dup2(out.fileno(), 1)  # C and Python writes alike
sys.stdout = os.fdopen(1, "w", buffering=1)  # the line buffering a terminal would give
sys.argv = sys.argv[2:]
sys.path[0] = os.path.dirname(os.path.abspath(script))  # as `python SCRIPT` would have it
runpy.run_path(script, run_name="__main__")
