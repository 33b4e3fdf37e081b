from tencentcloud.common import credential
from tencentcloud.facefusion.v20181201 import facefusion_client, models
cred = credential.Credential('id', 'key')
client = facefusion_client.FacefusionClient(cred, 'ap-guangzhou')
req = models.FaceFusionRequest()
