NAME = '{{ cookiecutter.module }}'
