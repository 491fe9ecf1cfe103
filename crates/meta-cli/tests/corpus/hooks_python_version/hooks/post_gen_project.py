import sys

with open("hook_ran.txt", "w") as f:
    f.write("post_gen_project ran on Python %d\n" % sys.version_info[0])
