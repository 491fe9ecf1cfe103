import os, sys
name = '{{ cookiecutter.name }}'
# pre_gen runs in the (empty) project folder.
assert os.path.basename(os.getcwd()) == '{{ cookiecutter.project_slug }}', os.getcwd()
with open('from_pre_gen.txt', 'w') as f:
    f.write('pre ' + name + ' ' + repr(sorted(os.listdir('.'))) + '\n')
