import os
with open('from_post_gen.txt', 'w') as f:
    f.write('post {{ cookiecutter.flavour }} ' + repr(sorted(os.listdir('.'))) + '\n')
{% if cookiecutter.flavour != 'chocolate' %}
os.remove('chocolate.txt')
{% endif %}
os.chmod('made_executable.txt', 0o755)
