with open("post.txt", "w") as f:
    f.write("{{ cookiecutter.cache }} {{ cookiecutter._deps }} {{ 'db' in cookiecutter }}\n")
