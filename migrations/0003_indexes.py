from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_governance')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='OrderLine',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Payment',
            index=Index(fields=['order_id']),
        ),
        ops.AddIndex(
            model_name='Product',
            index=Index(fields=['rank_score', 'id']),
        ),
        ops.AddIndex(
            model_name='Product',
            index=Index(fields=['merchant_id', 'id']),
        ),
        ops.AddIndex(
            model_name='TrackingEvent',
            index=Index(fields=['shipment_id']),
        ),
    ]
