# {{ cookiecutter.project_name }}
