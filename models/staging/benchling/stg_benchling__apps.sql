with source as (
    select * from {{ source('benchling', 'apps') }}
),

renamed as (
    select
        id as app_id,
        name,
        description,
        creator__id as creator_id,
        coalesce(archived, false) as is_archived,
        archive_record__reason as archive_reason,
        {{ utc_timestamp('created_at') }} as created_at,
        {{ utc_timestamp('modified_at') }} as modified_at,
        _synced_at
    from source
)

select * from renamed
