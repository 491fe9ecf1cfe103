import json
with open('cookiecutter.json') as f:
    data = json.load(f)
data['from_pre_prompt'] = 'yes, changed by pre_prompt'
with open('cookiecutter.json', 'w') as f:
    json.dump(data, f)
