{% set _ = cookiecutter.update({"from_hook": "set in pre_gen"}) -%}
print("pre_gen sees {{ cookiecutter.from_hook }}")
