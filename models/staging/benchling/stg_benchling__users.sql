with source as (
    select * from {{ source('benchling', 'users') }}
),

renamed as (
    select
        id as user_id,
        handle,
        name,
        email,
        is_suspended,
        _synced_at
    from source
)

select * from renamed
